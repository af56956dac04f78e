# SHIKE (Jin et al., CVPR 2023), 3 experts, DKF ResNet-32 on Digits-LT (grayscale; CPU demo): the CIFAR recipe of
# ./shike_resnet32_1xb128_cifar100-lt-if100_200e.py scaled to the demo's 30 epochs: DKT for epochs 0-23 (warm-up 5
# epochs, peak 3x the reference lr), the re-trained classifiers for epochs 24-29 with a 3-epoch warm-up to 2x the
# reference lr (the last 6 epochs, not the official last 10%: the stage's warm-up needs 2 epochs or more besides its
# cosine). The reference lr is 0.05 / 3, so that stage 1 peaks at the demo's lr 0.05
# (configs/_base_/schedules/digits_lt_30e.py). Network: ./_base_/shike_resnet32.py.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first; python tools/train.py THIS_CONFIG
_base_ = ['./_base_/shike_resnet32.py', '../_base_/datasets/digits_lt.py', '../_base_/default_runtime_cls.py']
max_epochs = 30
retrain_epoch = 24
model = dict(backbone=dict(in_channels=1),
             head=dict(num_classes={{_base_.num_classes}}, retrain_epoch=retrain_epoch,
                       loss=dict(class_stats={{_base_.class_stats}}),
                       retrain_loss=dict(class_stats={{_base_.class_stats}})))
optim_wrapper = dict(optimizer=dict(lr=0.05 / 3))
param_scheduler = [
    dict(type='SHIKEWarmupCosineLR', warmup_epochs=5, peak_factor=3.0, by_epoch=True, begin=0, end=retrain_epoch),
    dict(type='SHIKEWarmupCosineLR', warmup_epochs=3, peak_factor=2.0, by_epoch=True, begin=retrain_epoch,
         end=max_epochs),
]
custom_hooks = [
    dict(type='LossEpochHook'),  # tells SHIKEClsHead the epoch (its stage)
    dict(type='DecoupledStageHook', start_epoch=retrain_epoch, frozen_modules=('backbone', 'neck', 'head.classifiers'),
         bn_mode='train'),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
