# Balanced Softmax (Ren et al., NeurIPS 2020): cross-entropy on z + log n.
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe:
# configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py with this method.
# One GPU x 128 (the official CIFAR recipe differs: IF 200, batch 512, AutoAugment + Cutout; see README):
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='BalancedSoftmaxLoss', class_stats={{_base_.class_stats}})))
