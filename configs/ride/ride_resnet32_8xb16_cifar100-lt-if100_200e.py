# RIDE (Wang et al., ICLR 2021), 3 experts, ResNet-32 on CIFAR-100-LT (imbalance factor 100), 200 epochs: the
# official CIFAR-100 config (frank-xwang/RIDE-LongTailRecognition configs/config_imbalance_cifar100_ride.json):
# lambda (additional_diversity_factor) -0.45 (as at commit ab8be5c2; another version of that file has -0.2),
# reweight_factor 0.05, LDAM-DRW per expert with DRW from epoch 160, SGD nesterov lr 0.1 (batch 128), weight decay
# 5e-4, linear warm-up 5 epochs, x0.01 at 160 and 180.
# Network: RIDE's CIFAR ResNet-32 (shared stem + stage 1, per-expert stages 2-3 with 24 / 48 channels,
# reduce_dimension), each expert a cosine classifier x 30; no router (stage 2).
# tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet32_8xb16_cifar100-lt-if100_200e.py'
model = dict(
    backbone=dict(_delete_=True, type='ResNet32CIFAR', stage_channels=(16, 24, 48), num_experts=3,
                  num_shared_stages=1),
    head=dict(
        _delete_=True, type='MultiExpertClsHead', num_classes={{_base_.num_classes}}, in_channels=48, num_experts=3,
        scale=30.0,
        loss=dict(type='RIDELoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
                  additional_diversity_factor=-0.45, reweight_factor=0.05)))
custom_hooks = [dict(type='DRWHook', milestone=160, beta=0.9999)]
optim_wrapper = dict(optimizer=dict(nesterov=True, weight_decay=5e-4))
