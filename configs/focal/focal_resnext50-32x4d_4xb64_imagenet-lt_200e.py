# Softmax focal loss in the long-tail survey's form, ResNeXt-50 (32x4d) on ImageNet-LT: the survey's run (its
# "Focal loss" rows), whose recipe the ResNet-50 config of this folder carries, on the ResNeXt backbone.
# tools/dist_train.sh THIS_CONFIG 4
_base_ = './focal_resnet50_4xb64_imagenet-lt_200e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
