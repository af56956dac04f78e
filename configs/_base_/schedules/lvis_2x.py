# mmdet's 2x schedule (SGD lr 0.02 for 8 GPUs x 2 images, 24 epochs, lr x0.1 at epochs 16 and 22, 500-iteration
# linear warm-up from lr x 0.001) with one LVIS evaluation, at the end. The LVIS 2x configs pair it with their method
# base.
_base_ = 'mmdet::_base_/schedules/schedule_2x.py'
# schedule_2x.py's warm-up and steps, restated: inherited, each entry would gain a `_scope_='mmdet'` key
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 22], gamma=0.1),
]
train_cfg = dict(val_interval=24)  # LVIS evaluation once, at the end
