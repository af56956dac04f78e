# DeiT-LT on ImageNet-LT (official sh/train_imagenetlt.sh): DeiT-B/16 distilled from scratch, 4 GPUs x 128 with 4-step
# gradient accumulation (effective batch 2048), AdamW lr 5e-4 x 512 / 512, 1400 epochs, teacher-label CB(0.9999)
# re-weighting of the distillation from epoch 1200, mixup kept on in that phase; the ResNet-50 teacher sees the
# student's mixed 224-px batch. The teacher: a SAM-trained ("flat") ResNet-50, here the CC-SAM stage-1 config (train
# it first). tools/dist_train.sh THIS_CONFIG 4 [--cfg-options model.teacher.checkpoint=PATH]
_base_ = ['../_base_/datasets/imagenet_lt.py', '../_base_/default_runtime_cls.py', './_base_/deit_lt_deit-base.py']
max_epochs = 1400
model = dict(
    teacher=dict(config='configs/ccsam/stage1-ccsam_resnet50_8xb64_imagenet-lt_90e.py',
                 checkpoint='work_dirs/stage1-ccsam_resnet50_8xb64_imagenet-lt_90e/epoch_90.pth'),
    head=dict(num_classes=1000, loss=dict(class_stats={{_base_.class_stats}}, drw_epoch=1200)))
# the timm pipelines of ./_base_/deit_lt_deit-base.py
train_pipeline = {{_base_.deit_train_pipeline}}
test_pipeline = {{_base_.deit_test_pipeline}}
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 5e-4, end_factor=1.0, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 5, eta_min=1e-5, by_epoch=True, begin=5, end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
