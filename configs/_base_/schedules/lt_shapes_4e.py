# The LT-Shapes demo schedule (CPU, minutes): 4 epochs of SGD lr 0.04 (batch 8), a 100-iteration linear warm-up, the
# lr divided by 10 for the last epoch, gradient clipping at 10; the demo detectors (Mask R-CNN:
# ../../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py; RetinaNet: ../../efl/retinanet_r18-tiny_fpn_efl_lt-shapes.py) use it,
# with mmdet's default runtime (its hooks and log processor are adjusted here, so it is this file's base).
_base_ = 'mmdet::_base_/default_runtime.py'
max_epochs = 4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[max_epochs - 1], gamma=0.1),
]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.04, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=10.0, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=8)

default_hooks = dict(logger=dict(type='LoggerHook', interval=10),
                     checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
log_processor = dict(window_size=10)
randomness = dict(seed=0)  # same seed, same demo numbers (CPU)
