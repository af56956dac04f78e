# RSG (Wang et al., CVPR 2021), LDAM-DRS-RSG on ImageNet-LT with ResNeXt-50 (32x4d), the official network of
# imagenet_lt_train.py: the ResNet-50 config of this folder with the ResNeXt backbone (RSG after layer3,
# 1024 x 14 x 14). tools/dist_train.sh THIS_CONFIG 8
_base_ = './rsg_resnet50_8xb32_imagenet-lt_100e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
