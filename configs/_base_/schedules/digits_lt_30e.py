# Digits-LT demo schedule (CPU, about a minute): SGD lr 0.05, momentum 0.9, weight decay 5e-4, batch 32, cosine
# annealing over 30 epochs, validation at the end. Pair with ../datasets/digits_lt.py and ../default_runtime_cls.py.
max_epochs = 30
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)
