# GLMC (Du et al., CVPR 2023) on CIFAR-100-LT IF100, the official recipe (ynu-yangpeng/GLMC README command, main.py,
# Trainer.py): its 4x-wide ResNet-32 (`ResNet_modify`, nf = 64: stem and stages 64 / 128 / 256 channels, option-A
# shortcuts, a 256-d feature, about 7.4M parameters; the standard ResNet-32 has 16 / 32 / 64 and 0.46M, so these
# numbers are not comparable with standard-ResNet-32 tables), fc + fc_cb + projector 256 -> 128 + predictor
# 128 -> 128, all linear layers Kaiming-normal (`_weights_init`); pairs of an instance-sampled image and a partner
# drawn with per-sample probability n^(-q), q = 0.0, two crop + flip views each; lam ~ Beta(1, 1); kappa 1.2,
# lambda_c 4; one GPU x 64, SGD lr 0.01, momentum 0.9, weight decay 5e-3, cosine annealing over 200 epochs stepped
# per epoch. python tools/train.py THIS_CONFIG
_base_ = ['../_base_/datasets/cifar100_lt_two_view.py', '../_base_/default_runtime_cls.py']
max_epochs = 200
model = dict(
    type='GLMCClassifier',
    backbone=dict(type='ResNet32CIFAR', stage_channels=(64, 128, 256)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='GLMCHead', num_classes={{_base_.num_classes}}, in_channels=256, proj_channels=128,
              class_stats={{_base_.class_stats}}, max_epochs=max_epochs, label_weight_power=1.2, contrast_weight=4.0,
              init_cfg=dict(type='Kaiming', layer='Linear', mode='fan_in', nonlinearity='relu',
                            distribution='normal')),
    mix_alpha=1.0)
train_dataloader = dict(
    batch_size=64,
    sampler=dict(_delete_=True, type='PartnerSampler', q=0.0, shuffle=True),
    dataset=dict(_delete_=True, type='PairedDataset', dataset={{_base_.train_dataloader.dataset}}))
custom_hooks = [dict(type='LossEpochHook')]  # tells GLMCHead the epoch of alpha_e = 1 - (e / E)^2
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-3))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0,
                       end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
