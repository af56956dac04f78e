# Weighted Softmax (the long-tail survey's baseline), ResNeXt-50 (32x4d) on ImageNet-LT: the survey code's run
# (Main-codebase/config/ImageNet_LT/weighted_ce.yaml), whose recipe the ResNet-50 config of this folder carries, on
# the ResNeXt backbone. tools/dist_train.sh THIS_CONFIG 4
_base_ = './weighted-softmax_resnet50_4xb64_imagenet-lt_200e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
