# BalPoE (Sanchez Aimar et al., CVPR 2023), 3 experts, ResNet-32 on Digits-LT (grayscale; CPU demo): the CIFAR network
# of ./_base_/balpoe_resnet32_cifar.py (shared stem + stage 1, 3 full-width experts of stages 2-3, each a cosine
# classifier x 30) trained with BalPoELoss (tau 0, 1, 2) and the CIFAR mixup alpha 0.4 on the baseline's schedule.
# Compare with configs/sade/sade_resnet32_1xb32_digits-lt_30e.py and configs/ride/ride_resnet32_1xb32_digits-lt_30e.py.
_base_ = ['./_base_/balpoe_resnet32_cifar.py', '../_base_/datasets/digits_lt.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
model = dict(backbone=dict(in_channels=1),
             head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
