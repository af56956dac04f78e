# RIDE ResNet-32 on Digits-LT (grayscale; CPU demo) without a schedule: ./ride_resnet32_cifar.py, the data, the demo
# runtime of configs/baseline/lenet_1xb32_digits-lt_30e.py and DRW from epoch 24. The stage-1 and router (ride-ea)
# Digits-LT configs of this folder pair it with their schedules.
_base_ = ['./ride_resnet32_cifar.py', '../../_base_/datasets/digits_lt.py', '../../_base_/default_runtime_cls.py']
model = dict(backbone=dict(in_channels=1),
             head=dict(num_classes={{_base_.num_classes}},
                       loss=dict(class_stats={{_base_.class_stats}}, drw=dict(start_epoch=24, beta=0.9999))))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
