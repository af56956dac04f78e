# PaCo (Cui et al., ICCV 2021), ResNet-50 on ImageNet-LT, the official run (PaCo/LT/sh/ImageNetLT_train_R50.sh):
# 4 GPUs x 32, the query view `randcls` (crop, flip, jitter, RandAugment n2 m10) and the key view `sim` (crop, jitter,
# grayscale, blur, flip) of ../_base_/datasets/paco_augmentation.py, K 8192, T 0.2, alpha 0.05, lr 0.02, wd 5e-4,
# 400 epochs of warm-up + cosine; the last incomplete batch dropped (the queue takes whole global batches).
# tools/dist_train.sh THIS_CONFIG 4
_base_ = ['./_base_/paco_resnet50.py', '../_base_/datasets/imagenet_lt_two_view.py',
          '../_base_/datasets/paco_augmentation.py', './_base_/paco_400e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}),
             contrast_loss=dict(class_stats={{_base_.class_stats}}, num_classes={{_base_.num_classes}}))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[{{_base_.randcls_view}}, {{_base_.sim_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, drop_last=True, dataset=dict(pipeline=train_pipeline))
