# GLMC (Du et al., CVPR 2023) with a ResNet-50 on ImageNet-LT. The official code trains ImageNet-LT with a
# ResNeXt-50 only (./glmc_resnext50-32x4d_4xb30_imagenet-lt_135e.py); this is that recipe on ResNet-50
# (./_base_/glmc_imagenet_lt.py: 4 GPUs x 30 = the official batch 120, lr 0.1, wd 2e-4, 135 epochs, the official
# warm-up + cosine): fc + fc_cb + projector 2048 -> 256 + predictor 256 -> 256 (PyTorch's default init, as the
# official `Resnet_LT`), BatchNorm weights 1 in every block (the official init, not mmpretrain's zero-initialised
# residuals); partners drawn with per-sample probability n^(-q), q = 0.2; kappa 1.0, lambda_c 10.
# tools/dist_train.sh THIS_CONFIG 4
_base_ = './_base_/glmc_imagenet_lt.py'
model = dict(
    type='GLMCClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), style='pytorch', zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='GLMCHead', num_classes={{_base_.num_classes}}, in_channels=2048, proj_channels=256,
              class_stats={{_base_.class_stats}}, max_epochs={{_base_.max_epochs}}, label_weight_power=1.0,
              contrast_weight=10.0),
    mix_alpha=1.0)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='PartnerSampler', q=0.2, shuffle=True),
    dataset=dict(_delete_=True, type='PairedDataset', dataset={{_base_.train_dataloader.dataset}}))
custom_hooks = [dict(type='LossEpochHook')]  # tells GLMCHead the epoch of alpha_e = 1 - (e / E)^2
