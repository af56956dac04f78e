# Class-balanced softmax cross-entropy (Cui et al., CVPR 2019), effective-number weights with
# beta 0.9999, normalised by the batch size as the official code.
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe:
# configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py with this method.
# One GPU x 128, as the official cifar_im_trainval_cb.sh: python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='ClassBalancedLoss', beta=0.9999, loss_type='softmax', class_stats={{_base_.class_stats}})))
