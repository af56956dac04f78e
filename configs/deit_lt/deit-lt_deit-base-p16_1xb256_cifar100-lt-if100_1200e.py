# DeiT-LT on CIFAR-100-LT IF100 (official sh/train_c100_if100.sh): DeiT-B/16 distilled from scratch at 224 px, 256
# images per step (official 2 GPUs x 128; the ViT has no BatchNorm, so one GPU x 256 computes the same) with 4-step
# gradient accumulation (effective batch 1024), AdamW lr 5e-4 x 256 / 512 = 2.5e-4, 1200 epochs,
# teacher-label CB(0.9999) re-weighting of the distillation from epoch 1100; the ResNet-32 teacher sees the student's
# mixed batch resized to 32 px (bicubic). The teacher: a SAM-trained ("flat") ResNet-32, here the CC-SAM stage-1
# config (train it first). python tools/train.py THIS_CONFIG [--cfg-options model.teacher.checkpoint=PATH]
_base_ = ['../_base_/datasets/cifar100_lt.py', '../_base_/default_runtime_cls.py', './_base_/deit_lt_deit-base.py']
max_epochs = 1200
model = dict(
    teacher=dict(config='configs/ccsam/stage1-ccsam_resnet32_1xb64_cifar100-lt-if100_200e.py',
                 checkpoint='work_dirs/stage1-ccsam_resnet32_1xb64_cifar100-lt-if100_200e/epoch_200.pth',
                 input_size=(32, 32)),
    head=dict(num_classes=100, loss=dict(class_stats={{_base_.class_stats}}, drw_epoch=1100)))
# timm create_transform (official datasets.py): RRC 224 bicubic, flip, RandAugment rand-m9-mstd0.5-inc1,
# RandomErasing p 0.25 (pixel mode); test: resize 256 + center crop 224, bicubic
fill = [125.307, 122.961, 113.8575]
train_pipeline = [
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10, magnitude_level=9,
         magnitude_std=0.5, hparams=dict(pad_val=[round(x) for x in fill], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02, max_area_ratio=1 / 3,
         fill_color=fill, fill_std=[51.5865, 50.847, 51.255]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 2.5e-4, end_factor=1.0, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 5, eta_min=1e-5, by_epoch=True, begin=5, end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
