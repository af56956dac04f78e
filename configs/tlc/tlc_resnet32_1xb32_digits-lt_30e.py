# TLC (Li et al., CVPR 2022), 3 evidential experts, ResNet-32 on Digits-LT (grayscale; CPU demo): TLC's CIFAR network
# (stem shared, 3 experts of all three stages, each a cosine classifier x 30, evidential fusion with eta 0.2) and the
# CIFAR loss settings (reweight_factor 0.05, tau 0.54, diversity -0.01) with DRW from epoch 24 of 30 (80% of the run,
# as 160/200 and 80/100); the baseline's schedule. Compare with configs/baseline/resnet32_1xb32_digits-lt_30e.py and
# configs/ride/ride_resnet32_1xb32_digits-lt_30e.py. python tools/train.py THIS_CONFIG
_base_ = ['./_base_/tlc_resnet32.py', '../_base_/datasets/digits_lt.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(backbone=dict(in_channels=1),
             head=dict(num_classes={{_base_.num_classes}},
                       loss=dict(class_stats={{_base_.class_stats}}, drw=dict(start_epoch=24, beta=0.9999))))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
