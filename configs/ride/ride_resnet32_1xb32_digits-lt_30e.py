# RIDE (Wang et al., ICLR 2021), 3 experts, ResNet-32 on Digits-LT (grayscale; CPU demo): RIDE's CIFAR network
# (shared stem + stage 1, per-expert stages 2-3 with 24 / 48 channels, each expert a cosine classifier x 30) and the
# CIFAR-100 loss settings (lambda -0.45, reweight_factor 0.05, LDAM-DRW per expert) with DRW from epoch 24 of 30
# (80% of the run, as 160/200 and 80/100); no router. Compare with configs/baseline/resnet32_1xb32_digits-lt_30e.py.
# Model, data and loss: ./_base_/ride_resnet32_digits-lt.py; the baseline's schedule.
# python tools/train.py THIS_CONFIG
_base_ = ['./_base_/ride_resnet32_digits-lt.py', '../_base_/schedules/digits_lt_30e.py']
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
