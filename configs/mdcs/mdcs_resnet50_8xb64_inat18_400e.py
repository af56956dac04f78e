# MDCS (Zhao et al., ICCV 2023), 3 experts, ResNet-50 on iNaturalist 2018, the official recipe (fistyee/MDCS
# configs/config_iNaturalist_resnet50_mdcs.json): a total batch of 512 images (n_gpu 4; here 8 GPUs x 64), SGD
# nesterov lr 0.2, momentum 0.9, weight decay 2e-4, 400 epochs, CustomLR: warm-up 5 epochs (factor (e + 1) / 5),
# x0.1 at 200, x0.01 at 300, x0.001 at 380. The official iNaturalist loader returns one view while its trainer
# unpacks two, so the released recipe does not run; the views here are the ImageNet-LT ones (weak: crop + flip +
# jitter; strong: + RandAugment n2 m10) with iNaturalist's normalisation (an assumption, see README).
# tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./_base_/mdcs_resnet50.py', '../_base_/datasets/inat18_two_view.py', '../_base_/default_runtime_cls.py',
          '../_base_/datasets/paco_augmentation.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
weak_view = [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[weak_view, {{_base_.randcls_view}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
max_epochs = 400
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, nesterov=True, weight_decay=2e-4))
param_scheduler = [
    # LinearLR over [begin, end) reaches end_factor at epoch end - 1: factors (e + 1) / 5, as CustomLR's warm-up
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[200, 300, 380], gamma=0.1, by_epoch=True, begin=0, end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
