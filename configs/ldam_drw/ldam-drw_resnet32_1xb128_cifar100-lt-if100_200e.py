# LDAM-DRW (Cao et al., NeurIPS 2019): LDAM loss (max_m 0.5, s 30) on a cosine classifier,
# class-balanced re-weighting (beta 0.9999) deferred to a late epoch (drw).
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe:
# configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py with this method.
# One GPU x 128, as the official cifar_train.py --gpu 0: python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
# the baseline's classifier made cosine (num_classes, in_channels kept), scale 1: LDAM applies s=30 in the loss
model = dict(head=dict(type='CosineClsHead', scale=1.0, loss=dict(
    _delete_=True, type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
    drw=dict(start_epoch=160, beta=0.9999))))
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
