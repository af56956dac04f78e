# DeiT-LT on iNaturalist 2018 (official sh/ iNat18 script): DeiT-B/16 distilled from scratch, 4 GPUs x 128 with 4-step
# gradient accumulation (effective batch 2048), AdamW lr 5e-4 x 512 / 512, 1000 epochs, teacher-label CB(0.9999)
# re-weighting of the distillation from epoch 900, mixup kept on in that phase; the ResNet-50 teacher sees the
# student's mixed 224-px batch. The official teacher is a PaCo + SAM ResNet-50 (its recipe is not in the official
# repository); here ltmm's PaCo ResNet-50 iNat18 config (no SAM; train it first). The data are normalised with the
# iNat mean / std of ../_base_/datasets/inat18.py, those the PaCo teacher was trained with (the official normalises
# with ImageNet's). tools/dist_train.sh THIS_CONFIG 4 [--cfg-options model.teacher.checkpoint=PATH]
_base_ = ['../_base_/datasets/inat18.py', '../_base_/default_runtime_cls.py', './_base_/deit_lt_deit-base.py']
max_epochs = 1000
model = dict(
    teacher=dict(config='configs/paco/paco_resnet50_4xb32_inat18_400e.py',
                 checkpoint='work_dirs/paco_resnet50_4xb32_inat18_400e/epoch_400.pth'),
    head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}}, drw_epoch=900)))
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
