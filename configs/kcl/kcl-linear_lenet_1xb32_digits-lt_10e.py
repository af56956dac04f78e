# KCL stage 2 on Digits-LT (CPU demo), the linear probe: the stage-1 LeNet-5 is loaded and frozen, a new linear
# classifier (N(0, 0.01)) is trained with softmax cross-entropy and instance-balanced sampling as BalFeat's
# main_lincls.py, with its step schedule scaled to 10 epochs (lr x0.1 at epochs 6 and 8) and the demo's lr 0.05
# (BalFeat's lr 30 is for ResNet-50 features), no weight decay. LeNet-5 has no BatchNorm, so bn_mode does not matter.
# python tools/train.py ./kcl_lenet_1xb32_digits-lt_30e.py; python tools/train.py THIS_CONFIG
_base_ = ['../_base_/models/lenet_digits_lt.py', '../_base_/datasets/digits_lt.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
load_from = 'work_dirs/kcl_lenet_1xb32_digits-lt_30e/epoch_30.pth'
model = dict(head=dict(init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.0)))
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='eval',
                     reinit_head=True)]
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
max_epochs = 10
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
param_scheduler = dict(_delete_=True, type='MultiStepLR', milestones=[6, 8], gamma=0.1, by_epoch=True)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=5))
log_processor = dict(window_size=5)
