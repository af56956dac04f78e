# RIDE ResNet-50 on ImageNet-LT without a schedule: shared stem + layer1 + layer2, 3 experts of layer3 + layer4 at 3/4
# width (a 1536-d feature each), cosine classifiers x 30, RIDELoss at the official ImageNet-LT settings, DRW from epoch
# 80. The ResNet-50 stage-1 and router configs pair it with their schedules; the ResNeXt-50 ones inherit those.
_base_ = ['../../_base_/models/resnet50_lt.py', '../../_base_/datasets/imagenet_lt.py',
          '../../_base_/default_runtime_cls.py']
model = dict(
    backbone=dict(type='RIDEResNet', num_experts=3, num_shared_stages=2, expert_widen_factor=0.75),
    head=dict(type='MultiExpertClsHead', num_classes={{_base_.num_classes}}, in_channels=1536, num_experts=3,
              scale=30.0,
              loss=dict(_delete_=True, type='RIDELoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
                        additional_diversity_factor=-0.2, reweight_factor=0.02,
                        drw=dict(start_epoch=80, beta=0.9999))))
