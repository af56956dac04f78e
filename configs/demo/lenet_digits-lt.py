# LeNet-5 with plain softmax cross-entropy on Digits-LT: the `make demo` classification baseline. It shows the
# long-tail effect the methods in configs/ address: many-shot accuracy well above few-shot accuracy.
# The model: ../_base_/models/lenet_digits_lt.py (LeNet-5, global average pooling, linear classifier).
_base_ = ['mmpretrain::_base_/default_runtime.py', '../_base_/datasets/digits_lt.py',
          '../_base_/models/lenet_digits_lt.py']

max_epochs = 30
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(type='LoggerHook', interval=5),
                     checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
log_processor = dict(window_size=5)
randomness = dict(seed=0)  # same seed, same demo numbers (CPU)
