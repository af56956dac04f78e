# SBCL stage 2 on Digits-LT (CPU demo), the official CIFAR classifier (SimCLR/linear_classify.py): the stage-1
# LeNet-5 loaded and frozen (eval mode), a cosine classifier (s 30 in the loss) trained with LDAM (max_m 0.5) and
# class-balanced weights (beta 0.9999) from epoch 0, no weight decay, the official steps (x0.1 at 140 and 180 of 200)
# scaled to 10 epochs (7 and 9) with the demo's lr 0.05 and without the 5-epoch warm-up.
# python tools/train.py ./sbcl_lenet_1xb32_digits-lt_30e.py; python tools/train.py THIS_CONFIG
_base_ = ['../_base_/models/lenet_digits_lt.py', '../_base_/datasets/digits_lt.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
load_from = 'work_dirs/sbcl_lenet_1xb32_digits-lt_30e/epoch_30.pth'
model = dict(head=dict(type='CosineClsHead', scale=1.0, loss=dict(
    _delete_=True, type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
    drw=dict(start_epoch=0, beta=0.9999))))
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', ), bn_mode='eval', reinit_head=True),
                dict(type='LossEpochHook')]
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
max_epochs = 10
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
param_scheduler = dict(_delete_=True, type='MultiStepLR', milestones=[7, 9], gamma=0.1, by_epoch=True)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=5))
log_processor = dict(window_size=5)
