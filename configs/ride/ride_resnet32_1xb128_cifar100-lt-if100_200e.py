# RIDE (Wang et al., ICLR 2021), 3 experts, ResNet-32 on CIFAR-100-LT (imbalance factor 100), 200 epochs: the
# official CIFAR-100 config (frank-xwang/RIDE-LongTailRecognition configs/config_imbalance_cifar100_ride.json):
# lambda (additional_diversity_factor) -0.45 (as at commit ab8be5c2; another version of that file has -0.2),
# reweight_factor 0.05, LDAM-DRW per expert with DRW from epoch 160, n_gpu 1 x batch 128, SGD nesterov lr 0.1,
# weight decay 5e-4, linear warm-up 5 epochs, x0.01 at 160 and 180.
# Network: RIDE's CIFAR ResNet-32 (shared stem + stage 1, per-expert stages 2-3 with 24 / 48 channels,
# reduce_dimension), each expert a cosine classifier x 30; no router (stage 2).
# Model, data and loss: ./_base_/ride_resnet32_cifar100-lt.py; the baseline's schedule with nesterov and weight
# decay 5e-4. One GPU x 128, as the official run: python tools/train.py THIS_CONFIG
_base_ = ['./_base_/ride_resnet32_cifar100-lt.py', '../_base_/schedules/cifar_lt_200e.py']
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
optim_wrapper = dict(optimizer=dict(nesterov=True, weight_decay=5e-4))
