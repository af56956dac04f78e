# AREA (Chen et al., ICCV 2023): cross-entropy, then weighted by the inverse effective area of each class, recomputed
# before every epoch from two passes over the training set (AREAHook). ResNet-50 on ImageNet-LT: the official code has
# no ImageNet-LT run, so the recipe is configs/baseline/resnet50_8xb64_imagenet-lt_90e.py (batch 512, lr 0.2, cosine,
# 90 epochs) with the re-weighting from epoch 72 (80% of training, as the official CIFAR switch, 160 of 200, and the
# ImageNet-LT configs of configs/ldam_drw). tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='AREALoss', class_stats={{_base_.class_stats}}, start_epoch=72)))
custom_hooks = [dict(type='AREAHook')]  # the epoch, and the effective areas of the re-weighted epochs
