# LDAM-DRW (Cao et al., NeurIPS 2019): LDAM loss (max_m 0.5, s 30) on a cosine classifier,
# class-balanced re-weighting (beta 0.9999) deferred to a late epoch (drw).
# ResNet-50 on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe):
# configs/baseline/resnet50_8xb64_imagenet-lt_90e.py with this method.
# tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
# DRW from epoch 72 of 90 (80% of training, RIDE's rule; LDAM-DRW's CIFAR recipe: 160 of 200).
# the baseline's classifier made cosine (num_classes, in_channels kept), scale 1: LDAM applies s=30 in the loss
model = dict(head=dict(type='CosineClsHead', scale=1.0, loss=dict(
    _delete_=True, type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
    drw=dict(start_epoch=72, beta=0.9999))))
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
