# CIFAR-LT, the LDAM-DRW recipe (Cao et al., NeurIPS 2019, kaidic/LDAM-DRW cifar_train.py): SGD momentum 0.9,
# weight decay 2e-4, lr 0.1 for a batch of 128 on one GPU, 200 epochs; lr * (e + 1) / 5 for epochs e = 0..4 (linear
# warm-up, stepped per epoch), then x0.01 from epoch 160 and x0.01 again from epoch 180 (lr 1e-3, then 1e-5).
# Pair with ../datasets/cifar100_lt.py or cifar10_lt.py and ../default_runtime_cls.py.
max_epochs = 200
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = [
    # LinearLR over [begin, end) reaches end_factor at epoch end - 1: factors 0.2, 0.4, 0.6, 0.8, 1.0
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[160, 180], gamma=0.01, by_epoch=True, begin=0, end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
