# BCL (Zhu et al., CVPR 2022), ResNet-50 on iNaturalist 2018, the official run (README command): the ImageNet-LT
# recipe (./bcl_resnet50_4xb64_imagenet-lt_90e.py) with lr 0.2, weight decay 1e-4, 100 epochs, 8,142 classes (the
# prototype MLP runs over the 8,142 class vectors) and the iNat normalisation (mean 0.466 / 0.471 / 0.380, std
# 0.195 / 0.194 / 0.192; the RandAugment fill stays the ImageNet mean, as the official ra_params).
# tools/dist_train.sh THIS_CONFIG 4
_base_ = ['./_base_/bcl_resnet50.py', '../_base_/datasets/inat18_two_view.py', './_base_/bcl_views.py',
          './_base_/bcl_90e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})),
             contrast_loss=dict(num_classes={{_base_.num_classes}}))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 2], transforms=[{{_base_.randcls_view}}, {{_base_.bcl_sim_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
max_epochs = 100
optim_wrapper = dict(optimizer=dict(lr=0.2, weight_decay=1e-4))
param_scheduler = dict(end=max_epochs)
train_cfg = dict(max_epochs=max_epochs)
