# Softmax focal loss in LDAM-DRW's form (kaidic/LDAM-DRW losses.py FocalLoss, run by cifar_train.py with
# --loss_type Focal: gamma 1, p = exp(-CE) not detached, the batch mean) on ResNet-32, CIFAR-100-LT (imbalance
# factor 100), the LDAM-DRW 200-epoch recipe of configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py.
# One GPU x 128: python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='SoftmaxFocalLoss', class_stats={{_base_.class_stats}}, gamma=1.0, detach_pt=False)))
