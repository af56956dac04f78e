# BCL's ImageNet-LT schedule (FlamieZhu/Balanced-Contrastive-Learning@f72d0703 main.py `adjust_lr`, README command):
# SGD momentum 0.9, lr 0.1 for the total batch of 256 (4 GPUs, DataParallel), weight decay 5e-4, 90 epochs, lr set
# per epoch to lr (1 + cos(pi (e + 1) / 91)) / 2 (`--cos True`, `--warmup_epochs 0`: PaCoWarmupCosineLR with
# warmup_epochs=0; the first epoch already runs below the base lr).
max_epochs = 90
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='PaCoWarmupCosineLR', warmup_epochs=0, by_epoch=True, begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
