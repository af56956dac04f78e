# GPaCo (Cui et al., TPAMI 2023), ResNeXt-50 32x4d on ImageNet-LT, the official run
# (GPaCo/LT/sh/LT/ImageNetLT_train_X50.sh): ./gpaco_resnet50_4xb32_imagenet-lt_400e.py with alpha 0.05, lr 0.06 and
# RandAugment n3 in both views. tools/dist_train.sh THIS_CONFIG 4
_base_ = './gpaco_resnet50_4xb32_imagenet-lt_400e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4), contrast_loss=dict(alpha=0.05))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1],
         transforms=[{{_base_.randcls_n3_view}}, {{_base_.randclsstack_n3_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.06))
