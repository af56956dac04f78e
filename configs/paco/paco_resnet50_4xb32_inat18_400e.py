# PaCo (Cui et al., ICCV 2021), ResNet-50 on iNaturalist 2018, the official run (PaCo/LT/sh/Inat_train_R50.sh):
# ./paco_resnet50_4xb32_imagenet-lt_400e.py's network and views on 8,142 classes with the iNaturalist normalisation
# (RandAugment still fills with the ImageNet mean, as the official), weight decay 1e-4. tools/dist_train.sh THIS_CONFIG 4
_base_ = ['./_base_/paco_resnet50.py', '../_base_/datasets/inat18_two_view.py',
          '../_base_/datasets/paco_augmentation.py', './_base_/paco_400e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}),
             contrast_loss=dict(class_stats={{_base_.class_stats}}, num_classes={{_base_.num_classes}}))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[{{_base_.randcls_view}}, {{_base_.sim_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, drop_last=True, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
