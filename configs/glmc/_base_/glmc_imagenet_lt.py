# GLMC's ImageNet-LT data, schedule and runtime (ynu-yangpeng/GLMC README command, main.py, Trainer.py,
# utils/util.py `get_transform`), for the configs of this folder that add the model and the pair sampling:
# - two views of each training image, each RandomResizedCrop 224, ColorJitter(0.4, 0.4, 0.4, 0) always, grayscale
#   with probability 0.2, Gaussian blur (sigma in [0.1, 2]) with probability 0.5, horizontal flip (MoCo v2's
#   augmentation with the jitter always on and no hue), PIL-backed crop as torchvision's;
# - the official total batch of 120 (nn.DataParallel over all visible GPUs) as 4 GPUs x 30, SGD lr 0.1, momentum
#   0.9, weight decay 2e-4, 135 epochs, the official `paco_adjust_learning_rate` (PaCoWarmupCosineLR, below).
_base_ = ['../../_base_/datasets/imagenet_lt_two_view.py', '../../_base_/default_runtime_cls.py']
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),  # hue 0, RandomApply p = 1
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),  # BGR
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=30, dataset=dict(pipeline=train_pipeline))
max_epochs = 135
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
# The official lr is set after each epoch for the next: epoch 0 at 0.1, epoch k = 1..11 at 0.1 k / 10 (so epoch 11
# at 0.11), then 0.05 (1 + cos(pi (k - 10) / 126)).
param_scheduler = dict(type='PaCoWarmupCosineLR', warmup_epochs=10, warmup_inclusive=True, one_epoch_late=True,
                       by_epoch=True, begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=120)
