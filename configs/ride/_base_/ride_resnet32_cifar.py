# RIDE's CIFAR ResNet-32 (Wang et al., ICLR 2021): ../../_base_/models/resnet32_cifar_lt.py with a shared stem + stage 1
# and 3 experts of stages 2-3 (24 / 48 channels, reduce_dimension), each a cosine classifier x 30, and RIDELoss at the
# official CIFAR-100 settings. ./ride_resnet32_{digits,cifar100}-lt.py add the data, class_stats and the DRW epoch.
_base_ = '../../_base_/models/resnet32_cifar_lt.py'
model = dict(
    backbone=dict(stage_channels=(16, 24, 48), num_experts=3, num_shared_stages=1),
    head=dict(type='MultiExpertClsHead', in_channels=48, num_experts=3, scale=30.0,
              loss=dict(_delete_=True, type='RIDELoss', max_m=0.5, s=30.0, additional_diversity_factor=-0.45,
                        reweight_factor=0.05)))
