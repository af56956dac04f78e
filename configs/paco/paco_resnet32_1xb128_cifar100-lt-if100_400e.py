# PaCo (Cui et al., ICCV 2021), ResNet-32 on CIFAR-100-LT IF100, the official run (PaCo/LT/paco_cifar.py,
# sh/CIFAR100_train_imb0.01.sh): LDAM-DRW's ResNet-32 (a 64-d pooled feature), the projection MLP
# Linear(64, 64) - BatchNorm1d - ReLU - Linear(64, 32), the centres Linear(64, 100), K 1024, T 0.05, alpha 0.01,
# beta = gamma = 1, m 0.999; the query view AutoAugment-CIFAR10 + Cutout 16, the key view `sim_cifar` (crop 32 of
# scale 0.2-1, flip, jitter with hue p 0.8, grayscale, blur) of ../_base_/datasets/paco_augmentation.py; one GPU x 128,
# SGD lr 0.05, momentum 0.9, weight decay 5e-4, 400 epochs: lr (e + 1) / 10 for e <= 10, then 1, x0.1 after epoch
# 320, x0.01 after 360 (PaCoWarmupStepLR). python tools/train.py THIS_CONFIG
_base_ = ['../_base_/datasets/cifar100_lt_two_view.py', '../_base_/datasets/paco_augmentation.py',
          '../_base_/default_runtime_cls.py']
max_epochs = 400
model = dict(
    type='QueueContrastClassifier',
    backbone=dict(type='ResNet32CIFAR'),
    neck=dict(type='MLPNeck', channels=(64, 64, 32), norm_cfg=dict(type='BN1d')),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=64, init_cfg=None),
    contrast_loss=dict(type='PaCoLoss', class_stats={{_base_.class_stats}}, num_classes={{_base_.num_classes}},
                       temperature=0.05, alpha=0.01, beta=1.0, gamma=1.0),
    queue_size=1024, feat_dim=32, momentum=0.999)
train_pipeline = [
    dict(type='MultiView', num_views=[1, 1], transforms=[{{_base_.cifar_regular_view}}, {{_base_.cifar_sim_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, drop_last=True, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='PaCoWarmupStepLR', warmup_epochs=10, milestones=(320, 360), by_epoch=True, begin=0,
                       end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
