# SBCL stage 2 on CIFAR-100-LT IF100, the official SimCLR/linear_classify.py classifier (the README's number): the
# stage-1 ResNet-32 loaded and frozen (eval mode, the 64-d feature, not the projection), a cosine classifier trained
# with LDAM (max_m 0.5, s 30) and class-balanced weights (beta 0.9999) from epoch 0, batch 128, SGD lr 0.1, wd 0,
# 200 epochs: 5 warm-up epochs, x0.1 at 140 and at 180 (the LDAM-DRW schedule shape), crop 32 pad 4 + flip.
# Train ./sbcl_resnet32_1xb1024_cifar100-lt-if100_1000e.py first, then python tools/train.py THIS_CONFIG
_base_ = ['../_base_/models/resnet32_cifar_lt.py', '../_base_/datasets/cifar100_lt.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py']
load_from = 'work_dirs/sbcl_resnet32_1xb1024_cifar100-lt-if100_1000e/epoch_1000.pth'
model = dict(head=dict(type='CosineClsHead', scale=1.0, loss=dict(
    _delete_=True, type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
    drw=dict(start_epoch=0, beta=0.9999))))
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', ), bn_mode='eval', reinit_head=True),
                dict(type='LossEpochHook')]
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[140, 180], gamma=0.1, by_epoch=True, begin=0, end=200),
]
