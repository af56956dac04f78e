# GLMC (Du et al., CVPR 2023) on Digits-LT (CPU demo): LeNet-5 (a 120-d feature) with GLMC's fc + fc_cb + projector
# 120 -> 128 + predictor 128 -> 128, the official CIFAR-100-LT IF100 GLMC settings (q 0.0, kappa 1.2, lambda_c 4,
# lam ~ Beta(1, 1)), two crop views per image, and the configs/baseline demo schedule (SGD lr 0.05, batch 32, cosine
# over 30 epochs). python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first;
# python tools/train.py THIS_CONFIG
_base_ = ['../_base_/datasets/digits_lt_two_view.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(
    type='GLMCClassifier',
    backbone=dict(type='LeNet5', num_classes=-1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='GLMCHead', num_classes={{_base_.num_classes}}, in_channels=120, proj_channels=128,
              class_stats={{_base_.class_stats}}, max_epochs={{_base_.max_epochs}}, label_weight_power=1.2,
              contrast_weight=4.0),
    mix_alpha=1.0)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='PartnerSampler', q=0.0, shuffle=True),
    dataset=dict(_delete_=True, type='PairedDataset', dataset={{_base_.train_dataloader.dataset}}))
custom_hooks = [dict(type='LossEpochHook')]  # tells GLMCHead the epoch of alpha_e = 1 - (e / E)^2
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
