# GPaCo (Cui et al., TPAMI 2023), ResNet-50 on ImageNet-LT, the official run (GPaCo/LT/sh/LT/ImageNetLT_train_R50.sh):
# the total batch of 128 (the script's default -b; its GPU count is not stated: 4 x 32 as PaCo's), the query view
# `randcls` and the key view `randclsstack` (RandAugment n2 m10) of ../_base_/datasets/paco_augmentation.py, K 8192,
# T 0.2, alpha 0.045, lr 0.04, weight decay 5e-4, 400 epochs of PaCo's warm-up + cosine (configs/paco/_base_/
# paco_400e.py); the last incomplete batch dropped. tools/dist_train.sh THIS_CONFIG 4
_base_ = ['./_base_/gpaco_resnet50.py', '../_base_/datasets/imagenet_lt_two_view.py',
          '../_base_/datasets/paco_augmentation.py', '../paco/_base_/paco_400e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}),
             contrast_loss=dict(class_stats={{_base_.class_stats}}, num_classes={{_base_.num_classes}}, alpha=0.045))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[{{_base_.randcls_view}}, {{_base_.randclsstack_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, drop_last=True, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.04))
