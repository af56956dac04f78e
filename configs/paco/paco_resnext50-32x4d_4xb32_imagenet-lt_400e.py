# PaCo (Cui et al., ICCV 2021), ResNeXt-50 32x4d on ImageNet-LT, the official run
# (PaCo/LT/sh/ImageNetLT_train_X50.sh): ./paco_resnet50_4xb32_imagenet-lt_400e.py with T 0.07 and the query view
# `randclsstack` (crop, flip, jitter, grayscale, blur, RandAugment n2 m10). tools/dist_train.sh THIS_CONFIG 4
_base_ = './paco_resnet50_4xb32_imagenet-lt_400e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4), contrast_loss=dict(temperature=0.07))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[{{_base_.randclsstack_view}}, {{_base_.sim_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
