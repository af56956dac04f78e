# RIDE stage 2, expert assignment (official configs/config_*_ride_ea.json): the stage-1 model frozen (BatchNorm in
# eval mode) but the router, SGD nesterov lr 0.01 for batch 512, weight decay 5e-4, 5 epochs, cosine to 0. The
# ride-ea_* configs pair it with their ./ride_*.py base and set load_from, the router's top-k and class-aware sampling.
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck', 'head.classifiers'),
                     bn_mode='eval')]
# DDP is built before the hook freezes everything but the router
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
max_epochs = 5
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
