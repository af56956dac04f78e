# MiSLAS stage 1 (Zhong et al., CVPR 2021; dvlab-research/MiSLAS config/imagenet/imagenet_resnet50_stage1_mixup.yaml):
# ResNet-50 on ImageNet-LT with input mixup (alpha 0.2) and softmax cross-entropy on the mixed labels,
# instance-balanced sampling. SGD lr 0.1 for a total batch of 256 (4 GPUs x 64: the official 4-GPU DataParallel run
# normalises over 64 images per GPU too), momentum 0.9, weight decay 5e-4, 180 epochs, cosine to 0 stepped per epoch,
# no warm-up. Its last checkpoint is what stage 2 loads: tools/dist_train.sh THIS_CONFIG 4
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(loss=dict(use_soft=True)), train_cfg=dict(augments=dict(type='Mixup', alpha=0.2)))
max_epochs = 180
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
