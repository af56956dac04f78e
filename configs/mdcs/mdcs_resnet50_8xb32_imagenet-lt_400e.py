# MDCS (Zhao et al., ICCV 2023), 3 experts, ResNet-50 on ImageNet-LT, the official run (fistyee/MDCS
# configs/config_imagenet_lt_resnet50_mdcs_e400.json, data_loader/imagenet_lt_data_loaders.py): a total batch of 256
# images (n_gpu 4 under nn.DataParallel; here 8 GPUs x 32, the same total), SGD nesterov lr 0.1, momentum 0.9, weight
# decay 5e-4, cosine to 0 over 400 epochs (stepped per epoch), no warm-up. Weak view: RandomResizedCrop 224 + flip +
# ColorJitter(0.4, 0.4, 0.4, 0); strong view: RandomResizedCrop 224 (scale 0.08-1) + flip + ColorJitter(0.4, 0.4,
# 0.4, 0) + RandAugment rand-n2-m10-mstd0.5 (../_base_/datasets/paco_augmentation.py randcls_view: the same timm
# policy and fill). The 180-epoch variant: --cfg-options max_epochs=180 train_cfg.max_epochs=180
# param_scheduler.T_max=180 param_scheduler.end=180. tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./_base_/mdcs_resnet50.py', '../_base_/datasets/imagenet_lt_two_view.py', '../_base_/default_runtime_cls.py',
          '../_base_/datasets/paco_augmentation.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[{{_base_.view_pipeline}}, {{_base_.randcls_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
max_epochs = 400
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
