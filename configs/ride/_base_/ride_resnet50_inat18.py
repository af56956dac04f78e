# RIDE ResNet-50 on iNaturalist 2018 without a schedule: ./ride_resnet50_imagenet-lt.py's network (shared stem +
# layer1 + layer2, per-expert layer3 + layer4 at 3/4 width, cosine classifiers x 30) on iNaturalist, RIDELoss at the
# official iNaturalist settings (configs/config_iNaturalist_resnet50_ride.json: lambda -0.2, f 0.015, DRW from 80).
_base_ = ['../../_base_/models/resnet50_lt.py', '../../_base_/datasets/inat18.py',
          '../../_base_/default_runtime_cls.py']
model = dict(
    backbone=dict(type='RIDEResNet', num_experts=3, num_shared_stages=2, expert_widen_factor=0.75),
    head=dict(type='MultiExpertClsHead', num_classes={{_base_.num_classes}}, in_channels=1536, num_experts=3,
              scale=30.0,
              loss=dict(_delete_=True, type='RIDELoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
                        additional_diversity_factor=-0.2, reweight_factor=0.015,
                        drw=dict(start_epoch=80, beta=0.9999))))
