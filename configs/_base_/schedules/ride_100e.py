# The ImageNet-LT / iNaturalist 2018 schedule of the RIDE lineage (frank-xwang/RIDE-LongTailRecognition's configs,
# which TLC and SADE keep): SGD nesterov, momentum 0.9, weight decay 2e-4, lr 0.1 for a total batch of 256, linear
# warm-up over epochs 0-4 (stepped per epoch), x0.1 from epoch 60 and again from 80, 100 epochs. Pair with a dataset
# base and ../default_runtime_cls.py.
max_epochs = 100
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=2e-4))
param_scheduler = [
    # LinearLR over [begin, end) reaches end_factor at epoch end - 1: factors 0.2, 0.4, 0.6, 0.8, 1.0
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[60, 80], gamma=0.1, by_epoch=True, begin=0, end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
