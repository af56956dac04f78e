# Post-hoc logit adjustment (Menon et al., ICLR 2021): train with plain cross-entropy, predict with
# argmax z - tau * log pi, tau = 1 (LogitAdjustedClsHead; the same checkpoint can be re-tested with another tau).
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe:
# configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py with this method.
# One GPU x 128 as the official TF code (whose schedule is longer; see README): python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(type='LogitAdjustedClsHead', class_stats={{_base_.class_stats}}, tau=1.0))
