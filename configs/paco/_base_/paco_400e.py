# PaCo's ImageNet-LT / iNaturalist schedule (PaCo/LT/paco_lt.py `adjust_learning_rate`, sh/ImageNetLT_train_R50.sh):
# SGD momentum 0.9, lr 0.02 for the total batch of 128 (4 GPUs x 32), weight decay 5e-4, 400 epochs, lr set per epoch
# to lr (e + 1) / 10 for e < 10, then lr (1 + cos(pi (e - 9) / 391)) / 2 (PaCoWarmupCosineLR).
max_epochs = 400
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='PaCoWarmupCosineLR', warmup_epochs=10, by_epoch=True, begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
