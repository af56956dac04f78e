# Decoupling, stage 2, learnable weight scaling (LWS; Kang et al., ICLR 2020, classifier-balancing
# config/ImageNet_LT/cls_lws.yaml): the stage-1 backbone and classifier (weight and bias) are loaded and frozen; one
# scale per class (initialised to 1) is learned for 5 epochs with class-aware sampling, SGD lr 0.2 (batch 512),
# cosine to 0. BatchNorm mode as in ./crt_resnext50-32x4d_8xb64_imagenet-lt_10e.py.
# ./lws_resnet50_8xb64_imagenet-lt_5e.py on the ResNeXt-50 stage-1 model.
_base_ = './lws_resnet50_8xb64_imagenet-lt_5e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))  # the backbone of stage 1
load_from = 'work_dirs/stage1-ce_resnext50-32x4d_8xb64_imagenet-lt_90e/epoch_90.pth'
