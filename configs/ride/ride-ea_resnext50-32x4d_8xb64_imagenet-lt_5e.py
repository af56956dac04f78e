# RIDE stage 2, expert assignment (ImageNet-LT, ResNeXt-50 32x4d): the stage-1 RIDE model is loaded and frozen
# (BatchNorm in eval mode) and only the router learns, from "the experts so far are wrong and a later one fixes it"
# (BCE, pos_weight 100), with the top-50 mean logits as input; at test time each sample adds experts while the router
# says so. Official configs/config_imagenet_lt_resnext50_ride_ea.json: balanced (class-aware) sampling, SGD nesterov
# lr 0.01 for batch 512, weight decay 5e-4, 5 epochs, cosine to 0.
# Train stage 1 first (ride_resnext50-32x4d_8xb32_imagenet-lt_90e.py), then tools/dist_train.sh THIS_CONFIG 8
_base_ = './ride_resnext50-32x4d_8xb32_imagenet-lt_90e.py'
load_from = 'work_dirs/ride_resnext50-32x4d_8xb32_imagenet-lt_90e/epoch_90.pth'
model = dict(head=dict(router=dict(top_k=50, pos_weight=100.0)))
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck', 'head.classifiers'),
                     bn_mode='eval')]
# DDP is built before the hook freezes everything but the router
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
train_dataloader = dict(batch_size=64, sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=1,
                                     num_samples='dataset'))
max_epochs = 5
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True,
                       begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=512)
