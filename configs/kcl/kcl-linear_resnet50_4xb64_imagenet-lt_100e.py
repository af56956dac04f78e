# KCL stage 2, the linear probe (bingykang/BalFeat main_lincls.py, README "lt2lt_kcl6_e200" command): the stage-1
# ResNet-50 is loaded and frozen with its BatchNorm in eval mode (main_lincls.py puts the model in eval()), a new
# linear classifier (weights N(0, 0.01), bias 0) is trained with softmax cross-entropy and instance-balanced sampling
# (the README passes no --balanced), SGD lr 30, momentum 0.9, no weight decay, batch 256, 100 epochs, lr x0.1 at
# epochs 60 and 80; RandomResizedCrop 224 + flip.
# Train ./kcl_resnet50_4xb64_imagenet-lt_200e.py first, then tools/dist_train.sh THIS_CONFIG 4
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py', '../_base_/default_runtime_cls.py']
load_from = 'work_dirs/kcl_resnet50_4xb64_imagenet-lt_200e/epoch_200.pth'
model = dict(head=dict(init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.0)))
train_dataloader = dict(
    batch_size=64,  # x 4 GPUs = 256
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=224),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]))
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='eval',
                     reinit_head=True)]
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
max_epochs = 100
optim_wrapper = dict(optimizer=dict(type='SGD', lr=30.0, momentum=0.9, weight_decay=0.0))
param_scheduler = dict(type='MultiStepLR', milestones=[60, 80], gamma=0.1, by_epoch=True)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
