# Weighted Softmax (the long-tail survey's baseline, Zhang et al., TPAMI 2023): cross-entropy with class weights
# 1 + ln(n_max / n_c), divided by the sum of the batch's weights. ResNet-32 on CIFAR-100-LT (imbalance factor 100),
# the LDAM-DRW 200-epoch recipe: configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py with this loss (the
# survey's code has no CIFAR run). One GPU x 128: python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='WeightedSoftmaxLoss', class_stats={{_base_.class_stats}})))
