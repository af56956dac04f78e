# CC-SAM stage 1 with a ResNeXt-50 (32x4d): ./stage1-ccsam_resnet50_8xb64_imagenet-lt_90e.py on the backbone of
# classifier-balancing's and the long-tail survey's ImageNet-LT tables. tools/dist_train.sh THIS_CONFIG 8
_base_ = './stage1-ccsam_resnet50_8xb64_imagenet-lt_90e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
