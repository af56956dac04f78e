# RIDE (Wang et al., ICLR 2021), 3 experts, ResNet-32 on Digits-LT (grayscale; CPU demo): RIDE's CIFAR network
# (shared stem + stage 1, per-expert stages 2-3 with 24 / 48 channels, each expert a cosine classifier x 30) and the
# CIFAR-100 loss settings (lambda -0.45, reweight_factor 0.05, LDAM-DRW per expert) with DRW from epoch 24 of 30
# (80% of the run, as 160/200 and 80/100); no router. Compare with configs/baseline/resnet32_1xb32_digits-lt_30e.py.
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(
    backbone=dict(_delete_=True, type='ResNet32CIFAR', in_channels=1, stage_channels=(16, 24, 48), num_experts=3,
                  num_shared_stages=1),
    head=dict(
        _delete_=True, type='MultiExpertClsHead', num_classes={{_base_.num_classes}}, in_channels=48, num_experts=3,
        scale=30.0,
        loss=dict(type='RIDELoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
                  additional_diversity_factor=-0.45, reweight_factor=0.05)))
custom_hooks = [dict(type='DRWHook', milestone=24, beta=0.9999)]
