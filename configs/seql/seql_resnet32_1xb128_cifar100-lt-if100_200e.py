# Softmax equalization loss (Tan et al., CVPR 2020): tail-class negatives dropped from the
# softmax denominator with probability 0.9.
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe:
# configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py with this method.
# One GPU x 128 (no official CIFAR recipe): python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
# lambda 0.005 (BagofTricks-LT's CIFAR value: classes with <= 54 of 10,847 images are tail classes)
model = dict(head=dict(loss=dict(
    _delete_=True, type='SoftmaxEQLLoss', lambda_=0.005, ignore_prob=0.9, class_stats={{_base_.class_stats}})))
